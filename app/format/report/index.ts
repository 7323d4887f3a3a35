// report/: the saved analysis (one JSON document for `qcowscope report --output=json` and the app's
// download: schema, codec, run-length encodings) and the Markdown report with its verdict.

export { buildReport, looksLikeReport, parseReport, MAX_REPORT_BYTES, type ReportInput } from './saved-analysis';
export { ReportError } from './codec';
export { reportMarkdown } from './markdown';
export { analysisVerdict, type Verdict, type VerdictKind, type VerdictSeverity } from './verdict';
