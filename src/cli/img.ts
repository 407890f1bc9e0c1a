// `viv img`: placeholder until its issue lands (refuses to run rather than pretend).
export async function imgCommand(_argv: string[]): Promise<number> {
  console.error('viv img: not implemented yet');
  return 1;
}
