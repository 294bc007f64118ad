import { isbot } from 'isbot';

/**
 * HTTP client libraries, as whole user agents (`curl/8.4.0`, `node`, `python-requests/2.31`).
 * isbot counts them as bots, which is right for a web page but not for this API: a backend that
 * forwards page views server-side, or an admin trying the API with curl, sends exactly these.
 * Crawlers, headless browsers and monitoring agents stay bots.
 */
const HTTP_LIBRARY = /^(curl|wget|node|undici|node-fetch|axios|got|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|okhttp|java|apache-httpclient|postmanruntime|httpie|insomnia|ruby|faraday|guzzlehttp|dart)(\/\S*)?(\s+\(.*\))?$/i;

export function isBotUserAgent(userAgent: string | undefined): boolean {
  const ua = (userAgent ?? '').trim();
  if (ua === '' || HTTP_LIBRARY.test(ua)) return false;
  return isbot(ua);
}
