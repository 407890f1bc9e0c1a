// A QMP client for the benches: connects (retrying while the VM starts), negotiates capabilities,
// runs commands (their `return`, or an Error with QEMU's desc) and snapshot jobs to their end.
import { connect } from 'node:net';

/** A QMP client with events (JOB_STATUS_CHANGE), as the supervisor's is. */
export function qmpClient(sock) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const attempt = () => {
      const s = connect(sock);
      s.once('error', () => (Date.now() - t0 > 60_000 ? reject(new Error('no QMP socket')) : setTimeout(attempt, 200)));
      s.once('connect', () => {
        let buf = '';
        const replies = [];
        const listeners = new Set();
        s.setEncoding('utf8');
        s.on('data', (d) => {
          buf += d;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const msg = JSON.parse(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
            if (msg.QMP) continue;
            if (msg.event) for (const l of listeners) l(msg);
            else replies.shift()?.(msg);
          }
        });
        const exec = (execute, args) =>
          new Promise((r, j) => {
            replies.push((m) => (m.error ? j(new Error(`${execute}: ${m.error.desc}`)) : r(m.return)));
            s.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
          });
        /** Starts a job and answers when it concluded (ms), failing with its error. */
        const job = async (command, args) => {
          const id = `bench-${command}-${Math.random().toString(16).slice(2, 8)}`;
          const t = performance.now();
          const done = new Promise((r) => {
            const l = (e) => e.event === 'JOB_STATUS_CHANGE' && e.data.id === id && e.data.status === 'concluded' && (listeners.delete(l), r());
            listeners.add(l);
          });
          await exec(command, { 'job-id': id, ...args });
          await done;
          const ms = performance.now() - t;
          const error = (await exec('query-jobs')).find((j) => j.id === id)?.error;
          await exec('job-dismiss', { id });
          if (error) throw new Error(`${command}: ${error}`);
          return ms;
        };
        exec('qmp_capabilities').then(() => resolve({ exec, job, close: () => s.destroy() }));
      });
    };
    attempt();
  });
}
