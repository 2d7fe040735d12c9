"""The benchmark suite: the service side by side with the stack's floor (`make bench`)."""
