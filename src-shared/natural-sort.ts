/**
 * A key whose plain (binary) order is the natural order of paths: digit runs
 * compare by value ("page2" before "page10"), letters without regard to case.
 * Stored beside each image so SQLite can order by an index.
 */
export function naturalSortKey(path: string): string {
  return path
    .toLowerCase()
    .replace(/\d+/g, (digits) => {
      const trimmed = digits.replace(/^0+(?=\d)/, '');
      // Length prefix (2 digits) then the digits: longer numbers sort later.
      return String(trimmed.length).padStart(2, '0') + trimmed;
    })
    .replace(/\//g, '\u0001'); // a folder separator sorts before every other character
}
