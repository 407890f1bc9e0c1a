// The entry of the `viv img` bundle (out/cli/img.cjs): qemu-img's command on its own, without the
// rest of viv. bin/viv.cjs loads it through a V8 code cache made at build time
// (scripts/build-node.mjs), so a `viv img` process neither resolves a tree of ES modules nor
// compiles the block engine before it starts: measured, 8-10 ms of CPU less per invocation,
// which scripts driving qemu-img-style commands and every convert pay.
import { imgCommand } from './img';

/** Runs `viv img ARGS`; returns the exit code (errors that escape a subcommand: `viv: message`). */
export async function main(argv: string[]): Promise<number> {
  try {
    return await imgCommand(argv);
  } catch (err) {
    console.error(`viv: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
