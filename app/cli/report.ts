// `qcowscope report [--output=json] FILE`: the whole analysis. --output=json prints the saved
// analysis document (app/format/report.ts) — the same file the app's "Download analysis" writes
// and opens again without the image; the human form is the Markdown report the app's "Copy report"
// puts on the clipboard.

import { version } from '../../package.json';
import { reportMarkdown, buildReport } from '../format';
import type { CommandContext } from './main';
import { ImageFiles } from './map';

const CLI_GENERATOR = `qcowscope ${version} (cli)`;

export async function runReport(ctx: CommandContext): Promise<number> {
  const files = await ImageFiles.open(ctx.file);
  try {
    const a = await files.analyze();
    ctx.out(ctx.output === 'json' ? JSON.stringify(buildReport(a, CLI_GENERATOR), null, 1) + '\n' : reportMarkdown(a));
    return 0;
  } finally {
    await files.close();
  }
}
