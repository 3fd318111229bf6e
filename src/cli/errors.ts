// An error the CLI reports as one line, `nsecrelay: <message>`, exiting non-zero: bad input, an
// unreachable relay, an error reply. Anything else is a bug and shows its stack.
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
    this.name = 'CliError'
  }
}
