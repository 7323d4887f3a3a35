// The panels' number and date formats: the engine's one text module (app/format/text.ts), so the
// page, the map, the Markdown report and the CLI print a figure the same way.
export { byteUnit, formatBytes, formatBytesExact, formatCount, formatDate, hex, hexByte, hexBytes, hexField, percent, plural } from '../format';
