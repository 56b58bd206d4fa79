/**
 * Requests Node's HTTP parser refuses before Express sees them (malformed request line or headers, headers
 * too large, a client too slow to send its request) answered in the docs/api.md error shape instead of Node's
 * empty-bodied default, with the status Node would have sent.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

interface ClientError extends Error {
  code?: string;
}

/** The status and error code for a parser error code (`HPE_*`, or Node's request timeout). */
export function clientErrorAnswer(code: string | undefined): {
  status: number;
  code: string;
  message: string;
} {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, code: 'too_large', message: 'request headers too large' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, code: 'request_timeout', message: 'the request was not received in time' };
  return { status: 400, code: 'bad_request', message: 'malformed HTTP request' };
}

/**
 * http.Server's 'clientError' listener. A socket that can no longer be written, or whose response has
 * begun, is closed without a word, as Node does; `onAnswer` is told each error code answered (metrics).
 */
export function answerClientError(onAnswer?: (code: string) => void) {
  return (err: ClientError, socket: Duplex): void => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const a = clientErrorAnswer(err.code);
    const body = JSON.stringify({ error: { code: a.code, message: a.message } });
    socket.end(
      `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body
    );
    onAnswer?.(a.code);
  };
}
