"""The gift mall's catalog: categories, gifts, warehouses and stock per warehouse."""
