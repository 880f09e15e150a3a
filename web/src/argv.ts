// Splits a shell-like command line into argv, as a POSIX shell would split
// words: whitespace separates words; '...' keeps everything literally;
// "..." keeps spaces and honours \" \\ \$ \` and \newline; a backslash outside
// quotes escapes the next character. No expansion of variables, globs or
// operators: the result is exactly the argv the job runs.

export class ArgvError extends Error {}

export function splitArgv(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) {
        out.push(word);
        word = '';
        inWord = false;
      }
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ArgvError(`unterminated single quote at column ${i + 1}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = line[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < n && '"\\$`\n'.includes(line[i + 1])) {
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) throw new ArgvError('unterminated double quote');
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= n) throw new ArgvError('a backslash at the end of the command escapes nothing');
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) out.push(word);
  return out;
}

// The inverse, for display: quotes words that need it.
export function joinArgv(argv: string[]): string {
  return argv
    .map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
