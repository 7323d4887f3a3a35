import { chromiumRun } from '/work/main/scripts/bench-browser.mjs';
const r = await chromiumRun(process.argv[2]);
console.log(JSON.stringify(r));
