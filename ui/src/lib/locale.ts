// Some desktops start apps with the POSIX locale ("C"), which WebKit reports as
// navigator.language; Intl rejects it, and uPlot formats numbers with it as soon as it
// is imported. Imported first by main.ts so it runs before any other module.
const fallback = 'en-US';

function valid(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !valid(navigator.language)) {
  Object.defineProperty(Navigator.prototype, 'language', { get: () => fallback, configurable: true });
  Object.defineProperty(Navigator.prototype, 'languages', { get: () => [fallback], configurable: true });
}

export {};
