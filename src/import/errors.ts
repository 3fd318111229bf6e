// The one error an importer throws for bad input: it names the problem (file, table, row id) and,
// when verification found several, lists them all so that one run shows everything to fix.
export class ImportError extends Error {
  readonly problems: readonly string[]

  constructor(message: string, problems: readonly string[] = []) {
    super(problems.length > 0 ? `${message}:\n  - ${problems.join('\n  - ')}` : message)
    this.name = 'ImportError'
    this.problems = problems
  }
}

/** The message of anything thrown, for wrapping driver errors. */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))
