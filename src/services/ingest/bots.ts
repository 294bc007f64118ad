import { isbot } from 'isbot';

/**
 * HTTP client libraries, as whole user agents (`curl/8.4.0`, `node`, `python-requests/2.31`).
 * isbot counts them as bots, which is right for a web page but not for this API: a backend that
 * forwards page views server-side, or an admin trying the API with curl, sends exactly these.
 * Crawlers, headless browsers and monitoring agents stay bots.
 */
const HTTP_LIBRARY =
  /^(curl|wget|node|undici|node-fetch|axios|got|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|java|apache-httpclient|postmanruntime|httpie|insomnia|ruby|faraday|guzzlehttp|dart)(\/\S*)?(\s+\(.*\))?$/i;

/**
 * Verdicts remembered per user agent: a site's traffic comes from a few thousand distinct browser
 * builds, and isbot's pattern is a large regular expression. Bounded: the map starts over when full.
 */
const verdicts = new Map<string, boolean>();
const MAX_REMEMBERED = 10_000;

export function isBotUserAgent(userAgent: string | undefined): boolean {
  const key = userAgent ?? '';
  let bot = verdicts.get(key);
  if (bot === undefined) {
    const ua = key.trim();
    bot = ua !== '' && !HTTP_LIBRARY.test(ua) && isbot(ua);
    if (verdicts.size >= MAX_REMEMBERED) verdicts.clear();
    verdicts.set(key, bot);
  }
  return bot;
}
