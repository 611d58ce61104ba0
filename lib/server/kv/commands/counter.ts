// INCREMENT / DECREMENT: delta(8) initial(8) expiry(4) extras; the new value comes back as 8 bytes.
import { Status } from '../../../protocol/status';
import { decodeCounterExtras } from '../../../protocol/extras';
import type { CommandHandler as Handler } from '../connection';

export function counterWith(decrement: boolean): Handler {
  return (c, req, quiet) => {
    const store = c.ownedStore(req);
    if (store === undefined) return;
    if (req.extras.length !== 20) return c.respondStatus(req, Status.EINVAL);
    const id = c.docKey(req);
    if (id === undefined) return;
    if (c.frameOptions(req) === undefined) return;
    const x = decodeCounterExtras(req.extras);
    const { item, value } = store.counter(id, x.delta, x.initial, x.expiry, decrement, req.cas);
    c.mutated = true;
    if (quiet) return;
    const out = Buffer.allocUnsafe(8);
    out.writeBigUInt64BE(value, 0);
    c.respondMutation(req, item.cas, item.vbucket, item.seqno, out);
  };
}
