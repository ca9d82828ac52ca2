// History-API routing: the server answers every non-API path with
// index.html, so deep links work. Links are ordinary <a href> elements.
export type Params = Record<string, string>;
export type Cleanup = (() => void) | void;
export type Screen = (root: HTMLElement, params: Params) => Cleanup | Promise<Cleanup>;

interface Route { re: RegExp; names: string[]; screen: Screen; title: string }
const routes: Route[] = [];

export function route(pattern: string, title: string, screen: Screen): void {
  const names: string[] = [];
  const re = new RegExp(
    '^' + pattern.replace(/:(\w+)/g, (_, n: string) => { names.push(n); return '([^/]+)'; }) + '/?$');
  routes.push({ re, names, screen, title });
}

export function match(path: string): { r: Route; params: Params } | null {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params: Params = {};
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { r, params };
    }
  }
  return null;
}

let onNavigate: () => void = () => {};
export function setNavigateHandler(fn: () => void): void { onNavigate = fn; }

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  onNavigate();
}

window.addEventListener('popstate', () => onNavigate());
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element).closest?.('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || !href.startsWith('/') || href.startsWith('/api/')) return;
  e.preventDefault();
  navigate(href);
});
