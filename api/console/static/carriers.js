// The carriers the console offers (the station ships with one, the desk's returns come back
// with one): the code the API takes, and the name staff know it by.

export const CARRIERS = [
  ["SF", "顺丰 SF Express"],
  ["YTO", "圆通 YTO"],
  ["ZTO", "中通 ZTO"],
  ["STO", "申通 STO"],
  ["YUNDA", "韵达 Yunda"],
  ["JD", "京东 JD Logistics"],
  ["EMS", "中国邮政 EMS"],
];
