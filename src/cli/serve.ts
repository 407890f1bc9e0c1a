// `viv serve`: placeholder until its issue lands (refuses to run rather than pretend).
export async function serveCommand(_argv: string[]): Promise<number> {
  console.error('viv serve: not implemented yet');
  return 1;
}
