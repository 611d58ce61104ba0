// Puts a design document through the embedded cluster's views (CAPI) port, as a user would.
import * as http from 'node:http';

export function putDesignDoc(port: number, bucket: string, name: string, body: unknown): Promise<void> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/${bucket}/_design/${name}`,
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          authorization: 'Basic ' + Buffer.from('Administrator:password').toString('base64'),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`design doc PUT: HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
