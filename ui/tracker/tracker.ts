// page-stats tracker: one beacon per page view, SPA navigations included.
// Budget: 1,000 bytes gzipped (checked by build.mjs). No cookies, no storage writes.

interface PageStats {
  track(pageName?: string): void;
}

type Host = Window & { pageStats?: PageStats };

(() => {
  try {
    const w = window as Host;
    // A second copy of the script on the page must not count every view twice.
    if (w.pageStats) return;
    const d = document;
    const l = location;
    const n = navigator as Navigator & { globalPrivacyControl?: boolean };
    // currentScript is null when the script was injected as a module or ran from a loader.
    const script = (d.currentScript || d.querySelector('script[src*="tracker.js"]')) as HTMLScriptElement | null;
    const attr = (name: string) => (script && script.getAttribute('data-' + name)) || '';
    const on = (name: string) => attr(name) === 'true';
    const url = attr('api') || new URL('/page-view', (script && script.src) || l.href).href;
    const region = attr('region');
    const hashMode = on('hash');

    const blocked = () => {
      if (!on('allow-localhost') && (l.protocol === 'file:' || /^(localhost|127\.0\.0\.1|\[::1\])$/.test(l.hostname))) return true;
      if (on('respect-dnt') && (n.doNotTrack === '1' || n.globalPrivacyControl === true)) return true;
      try {
        return localStorage.getItem('page-stats:ignore') === 'true';
      } catch {
        // Sandboxed iframes and blocked storage throw on any access.
        return false;
      }
    };

    const currentName = () => {
      let name = l.pathname + (hashMode ? l.hash : '');
      try {
        // decodeURI keeps %2F, %3F, %23 encoded, so two different paths never merge.
        name = decodeURI(name);
      } catch {
        // malformed escapes: keep the raw path
      }
      // Cut by UTF-16 units but never leave half a surrogate pair behind.
      name = name.slice(0, 512);
      return /[\ud800-\udbff]$/.test(name) ? name.slice(0, -1) : name;
    };

    const send = (pageName: string) => {
      try {
        if (blocked()) return;
        const event: Record<string, unknown> = { timestamp: Date.now(), pageName };
        if (region) event.region = region;
        const body = JSON.stringify(event);
        // text/plain is CORS-safelisted: no preflight, for the beacon and the fetch alike.
        if (n.sendBeacon && n.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) return;
        fetch(url, {
          method: 'POST',
          body,
          keepalive: true,
          headers: { 'content-type': 'text/plain' },
          credentials: 'omit',
        }).catch(() => {});
      } catch {
        // never throw into the host page
      }
    };

    let last: string | undefined;
    const check = () => {
      try {
        const name = currentName();
        if (name !== last) send((last = name));
      } catch {
        // never throw into the host page
      }
    };

    const h = history;
    for (const method of ['pushState', 'replaceState'] as const) {
      const original = h[method];
      h[method] = function (this: History) {
        // The host's own call runs first and its errors stay its own.
        const result = original.apply(this, arguments as unknown as Parameters<History['pushState']>);
        check();
        return result;
      };
    }
    w.addEventListener('popstate', check);
    if (hashMode) w.addEventListener('hashchange', check);
    // A page restored from the back/forward cache is a new view; its scripts do not run again.
    w.addEventListener('pageshow', (e) => {
      if (e.persisted) {
        last = undefined;
        check();
      }
    });
    w.pageStats = { track: (pageName) => send(pageName || currentName()) };

    // A prerendered page is counted only once the visitor actually opens it.
    if ((d as Document & { prerendering?: boolean }).prerendering) {
      d.addEventListener('prerenderingchange', check, { once: true });
    } else {
      check();
    }
  } catch {
    // never throw into the host page
  }
})();
