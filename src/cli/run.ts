// `viv run`: placeholder until its issue lands (refuses to run rather than pretend).
export async function runCommand(_argv: string[]): Promise<number> {
  console.error('viv run: not implemented yet');
  return 1;
}
