// An HTTPS receiver as a process, for tests in other languages: answers a Graph validation
// request (?validationToken=...) with the decoded token as text/plain, and every other POST with
// 202. Prints one JSON line {"url", "ca"} (ca: the PEM the fakes' deliveryCa takes) once it
// listens; stops on SIGTERM. Usage: node receiver-main.mjs [path]
import { httpsReceiver } from './https-receiver.mjs';

const receiver = await httpsReceiver(process.argv[2] ?? '/webhooks');
receiver.answer = (request) => {
  const token = new URL(request.url, 'https://127.0.0.1').searchParams.get('validationToken');
  if (token !== null) return { status: 200, contentType: 'text/plain; charset=utf-8', body: token };
  return { status: 202 };
};
console.log(JSON.stringify({ url: receiver.url, ca: receiver.ca }));
const stop = () => receiver.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
