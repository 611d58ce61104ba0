// Cluster: the nodes with their services, ports and membership; fail over, add back, add node
// and rebalance through ns_server's controller endpoints; live charts of KV and query traffic
// from the stats endpoint.
import { useState } from 'preact/hooks';
import { getJson, post } from '../api';
import { Chart } from '../chart';
import { BucketPicker, ErrorBox, Notice, Section, useAsync, useBucketChoice, useBuckets } from '../ui';

interface NodeInfo {
  hostname: string;
  otpNode: string;
  services: string[];
  clusterMembership: 'active' | 'inactiveAdded' | 'inactiveFailed';
  status: string;
  version: string;
  ports: { direct: number };
  thisNode?: boolean;
}

interface Pool {
  nodes: NodeInfo[];
  balanced: boolean;
}

interface NodeServices {
  nodesExt: Array<{ services: Record<string, number>; thisNode?: boolean }>;
}

const MEMBERSHIP: Record<NodeInfo['clusterMembership'], string> = {
  active: 'active',
  inactiveAdded: 'added, awaiting rebalance',
  inactiveFailed: 'failed over',
};

interface Samples {
  op: { samples: Record<string, number[]> };
}

export function ClusterPage() {
  const pool = useAsync((s) => getJson<Pool>('/pools/default', s), [], 3000);
  const services = useAsync((s) => getJson<NodeServices>('/pools/default/nodeServices', s), [pool.data?.nodes.map((n) => n.clusterMembership).join()]);
  const buckets = useBuckets();
  const [bucket, setBucket] = useBucketChoice(buckets.data, (b) => b.bucketType !== 'memcached' || true);
  const kv = useAsync((s) => (bucket ? getJson<Samples>(`/pools/default/buckets/${encodeURIComponent(bucket)}/stats?zoom=minute`, s) : Promise.resolve(undefined)), [bucket], 1000);
  const query = useAsync((s) => getJson<Samples>('/pools/default/buckets/@query/stats?zoom=minute', s), [], 1000);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();

  const act = async (what: string, path: string, form: Record<string, string>) => {
    setBusy(true);
    setError(undefined);
    setNotice(undefined);
    try {
      const answer = await post(path, form);
      setNotice(what + (answer && answer !== '[]' ? `: ${answer}` : ''));
      pool.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const nodes = pool.data?.nodes ?? [];
  const portsByKv = new Map<number, Record<string, number>>((services.data?.nodesExt ?? []).map((n) => [n.services.kv, n.services]));
  const rebalance = () => act('Rebalanced', '/controller/rebalance', { knownNodes: nodes.map((n) => n.otpNode).join(','), ejectedNodes: '' });

  const s = kv.data?.op.samples;
  const q = query.data?.op.samples;
  const ms = (v: number[] | undefined) => (v ?? []).map((x) => x * 1000);
  return (
    <div class="page" data-testid="cluster-page">
      <Section
        title="Nodes"
        actions={
          <>
            <button disabled={busy} onClick={() => act('Node added', '/controller/addNode', { services: 'kv,n1ql,index' })} data-testid="add-node">
              Add node
            </button>
            <button disabled={busy} class={pool.data?.balanced === false ? 'primary' : ''} onClick={rebalance} data-testid="rebalance">
              Rebalance
            </button>
          </>
        }
      >
        <ErrorBox error={error ?? pool.error} />
        <Notice text={notice} />
        {pool.data?.balanced === false && <p class="warn">The cluster is not balanced: rebalance to give every active node its share of vBuckets.</p>}
        <table class="grid" data-testid="node-list">
          <thead>
            <tr>
              <th>Node</th>
              <th>Host</th>
              <th>Services</th>
              <th>Ports</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => {
              const ports = portsByKv.get(n.ports.direct);
              return (
                <tr data-node={n.otpNode}>
                  <td>
                    {n.otpNode}
                    {n.thisNode ? ' (this node)' : ''}
                  </td>
                  <td>{n.hostname}</td>
                  <td>{n.services.join(', ')}</td>
                  <td class="mono">
                    kv {n.ports.direct} · mgmt {n.hostname.split(':').pop()}
                    {ports?.n1ql ? ` · n1ql ${ports.n1ql}` : ''}
                    {ports?.capi ? ` · capi ${ports.capi}` : ''}
                  </td>
                  <td>
                    <span class={`badge ${n.clusterMembership}`} data-testid="membership">
                      {MEMBERSHIP[n.clusterMembership]}
                    </span>
                  </td>
                  <td class="actions">
                    {n.clusterMembership === 'inactiveFailed' ? (
                      <button disabled={busy} onClick={() => act(`${n.otpNode} added back`, '/controller/setRecoveryType', { otpNode: n.otpNode, recoveryType: 'full' })} data-testid="add-back">
                        Add back
                      </button>
                    ) : (
                      <button
                        disabled={busy}
                        onClick={() => confirm(`Fail over ${n.otpNode}? Its vBuckets move to their replicas.`) && act(`${n.otpNode} failed over`, '/controller/failOver', { otpNode: n.otpNode })}
                        data-testid="failover"
                      >
                        Fail over
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Section>
      <Section title="Traffic (last minute)" actions={buckets.data && <BucketPicker buckets={buckets.data} value={bucket} onChange={setBucket} testId="stats-bucket" />}>
        <div class="charts">
          <Chart title={`KV ops/s (${bucket ?? '-'})`} times={s?.timestamp ?? []} series={[{ label: 'ops', values: s?.ops ?? [] }]} testId="chart-ops" />
          <Chart
            title="Gets and sets /s"
            times={s?.timestamp ?? []}
            series={[
              { label: 'gets', values: s?.cmd_get ?? [] },
              { label: 'sets', values: s?.cmd_set ?? [] },
              { label: 'misses', values: s?.get_misses ?? [] },
            ]}
          />
          <Chart title="Query requests/s" times={q?.timestamp ?? []} series={[{ label: 'requests', values: q?.query_requests ?? [] }, { label: 'errors', values: q?.query_errors ?? [] }]} />
          <Chart
            title="Query latency"
            unit=" ms"
            times={q?.timestamp ?? []}
            series={[
              { label: 'p50', values: ms(q?.query_latency_p50) },
              { label: 'p90', values: ms(q?.query_latency_p90) },
              { label: 'p99', values: ms(q?.query_latency_p99) },
            ]}
          />
        </div>
      </Section>
    </div>
  );
}
