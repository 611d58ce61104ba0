import { expect } from 'chai';
import { parseConnstr, knownOptionNames, DEFAULT_OPTIONS } from '../../lib/engine/connstr';
import { ArgumentError } from '../../lib/engine/errors';

function rejects(s: string, part: RegExp, overrides?: Record<string, unknown>): void {
  let err: unknown;
  try {
    parseConnstr(s, overrides);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ArgumentError for ${s}`).to.be.instanceOf(ArgumentError);
  expect((err as Error).message).to.match(part);
}

describe('engine connection strings', () => {
  it('reads hosts, ports and the bucket of a couchbase:// string', () => {
    const s = parseConnstr('couchbase://h1,h2:11299,[::1]:11210/travel-sample');
    expect(s.scheme).to.equal('couchbase');
    expect(s.tls).to.equal(false);
    expect(s.bucket).to.equal('travel-sample');
    expect(s.hosts).to.deep.equal([
      { host: 'h1', port: 0, mode: 'kv' },
      { host: 'h2', port: 11299, mode: 'kv', explicit: true },
      { host: '::1', port: 11210, mode: 'kv' },
    ]);
  });

  it('defaults the bucket to "default" and the host to loopback', () => {
    expect(parseConnstr('couchbase://').bucket).to.equal('default');
    expect(parseConnstr('couchbase://').hosts).to.deep.equal([{ host: '127.0.0.1', port: 0, mode: 'kv' }]);
    expect(parseConnstr('couchbase://h/').bucket).to.equal('default');
  });

  it('treats =http, =mcd suffixes and the well-known REST port as libcouchbase does', () => {
    const s = parseConnstr('couchbase://a:8091,b:9000=http,c:12000=mcd,d:11210=cccp');
    expect(s.hosts.map((h) => h.mode)).to.deep.equal(['kv', 'http', 'kv', 'kv']);
    // libcouchbase's "honest couchbase://host:8091 mistake": the port is dropped, the host is typeless.
    expect(s.hosts[0]).to.deep.equal({ host: 'a', port: 0, mode: 'kv' });
  });

  it('parses http:// strings as HTTP bootstrap ports and rejects KV modes there', () => {
    const s = parseConnstr('http://h1:8091,h2/b');
    expect(s.scheme).to.equal('http');
    expect(s.hosts).to.deep.equal([
      { host: 'h1', port: 8091, mode: 'http' },
      { host: 'h2', port: 0, mode: 'http' },
    ]);
    rejects('http://h1:11210=mcd/b', /HTTP ports only/);
  });

  it('turns on TLS for couchbases:// and takes a CA path', () => {
    const s = parseConnstr('couchbases://secure/b?certpath=/etc/ca.pem');
    expect(s.tls).to.equal(true);
    expect(s.options.ssl).to.equal('on');
    expect(s.options.certpath).to.equal('/etc/ca.pem');
    expect(parseConnstr('couchbases://h?truststorepath=/x.pem&ssl=no_verify').options.ssl).to.equal('no_verify');
  });

  it('rejects TLS options on a plain couchbase:// string', () => {
    rejects('couchbase://h?certpath=/ca.pem', /certpath.*couchbases/);
    rejects('couchbases://h?ssl=off', /contradicts/);
  });

  it('reads timeouts as seconds (floats), also with unit suffixes', () => {
    const s = parseConnstr('couchbase://h/b?operation_timeout=0.5&n1ql_timeout=120&views_timeout=2500ms&config_total_timeout=1.25s&durability_interval=100ms');
    expect(s.options.operation_timeout).to.equal(0.5);
    expect(s.options.n1ql_timeout).to.equal(120);
    expect(s.options.views_timeout).to.equal(2.5);
    expect(s.options.config_total_timeout).to.equal(1.25);
    expect(s.options.durability_interval).to.equal(0.1);
  });

  it('keeps the documented defaults for options not given', () => {
    const s = parseConnstr('couchbase://h');
    expect(s.options.operation_timeout).to.equal(2.5);
    expect(s.options.config_poll_interval).to.equal(2.5);
    expect(s.options.n1ql_timeout).to.equal(75);
    expect(s.options.bootstrap_on).to.equal('all');
    expect(s.options).to.deep.equal({ ...DEFAULT_OPTIONS });
  });

  it('reads booleans, enums and integers', () => {
    const s = parseConnstr('couchbase://h?tcp_nodelay=false&fetch_mutation_tokens=on&bootstrap_on=cccp&sasl_mech_force=PLAIN&compression_min_size=64&compression=off&detailed_errcodes=0');
    expect(s.options.tcp_nodelay).to.equal(false);
    expect(s.options.fetch_mutation_tokens).to.equal(true);
    expect(s.options.bootstrap_on).to.equal('cccp');
    expect(s.options.sasl_mech_force).to.equal('PLAIN');
    expect(s.options.compression_min_size).to.equal(64);
    expect(s.options.compression).to.equal('off');
    expect(s.options.detailed_errcodes).to.equal(false);
  });

  it('accepts the SDK 3 names, their bare numbers in milliseconds as those SDKs read them', () => {
    const s = parseConnstr('couchbase://h?kv_timeout=1500&query_timeout=9s&enable_mutation_tokens=true&view_timeout=250&bootstrap_timeout=10000&connect_timeout=1s');
    expect(s.options.operation_timeout).to.equal(1.5);
    expect(s.options.n1ql_timeout).to.equal(9);
    expect(s.options.views_timeout).to.equal(0.25);
    expect(s.options.config_total_timeout).to.equal(10);
    expect(s.options.config_node_timeout).to.equal(1);
    expect(s.options.fetch_mutation_tokens).to.equal(true);
    const t = parseConnstr('couchbase://h?enable_compression=false&tls_verify=none&ip_protocol=force_ipv4&user_agent_extra=app', {});
    expect(t.options).to.include({ compression: 'off', ssl: 'no_verify', ipv6: 'disabled', client_string: 'app' });
    expect(t.tls).to.equal(true);
  });

  it('takes credentials from the string or from the options, options winning', () => {
    expect(parseConnstr('couchbase://h/b?username=u&password=p').options).to.include({ username: 'u', password: 'p' });
    const s = parseConnstr('couchbase://h/b?username=u&password=p', { username: 'v', password: 'q', operation_timeout: 1 });
    expect(s.options).to.include({ username: 'v', password: 'q', operation_timeout: 1 });
    expect(s.display).to.not.include('password=p');
  });

  it('decodes percent-encoded buckets and option values', () => {
    const s = parseConnstr('couchbase://h/my%20bucket?client_string=a%26b');
    expect(s.bucket).to.equal('my bucket');
    expect(s.options.client_string).to.equal('a&b');
  });

  it('names the unknown option in its error', () => {
    rejects('couchbase://h/b?operation_timeoot=2', /unknown option "operation_timeoot"/);
    rejects('couchbase://h/b', /unknown option "bogus"/, { bogus: 1 });
  });

  it('names the malformed part of the string', () => {
    rejects('couchbase://h/b?operation_timeout=fast', /operation_timeout="fast" is not a duration/);
    rejects('couchbase://h/b?operation_timeout=-1', /operation_timeout/);
    rejects('couchbase://h/b?tcp_nodelay=maybe', /tcp_nodelay=maybe must be true or false/);
    rejects('couchbase://h/b?bootstrap_on=carrier', /bootstrap_on="carrier" must be one of/);
    rejects('couchbase://h:99999/b', /port "99999"/);
    rejects('couchbase://h:abc/b', /port "abc"/);
    rejects('couchbase://h1,,h2/b', /empty host/);
    rejects('couchbase://h:1=xyz/b', /unknown port type "=xyz"/);
    rejects('couchbase://[::1/b', /closing "]"/);
    rejects('couchbase://::1:11210/b', /IPv6 addresses in brackets/);
    rejects('couchbase://h/b/c', /must not contain "\/"/);
    rejects('couchbase://h/b?novalue', /name=value/);
    rejects('redis://h/b', /unknown scheme "redis:\/\/"/);
    rejects('couchbase://us@er:pw@h/b', /credentials/);
    rejects('', /non-empty/);
    rejects('couchbase://h?compression_min_size=1.5', /integer/);
    rejects('couchbase://h?compression_min_ratio=2', /from 0 to 1/);
    rejects('couchbase://h?network=a/b', /network="a\/b" must be auto, default, external/);
    rejects('couchbase://h?compression=gzip', /compression="gzip" must be one of on, off, inflate_only, deflate_only, force/);
    rejects('couchbase://h?operation_timeout=', /empty value/);
  });

  it('treats a bare host list as couchbase://', () => {
    const s = parseConnstr('h1,h2/b');
    expect(s.scheme).to.equal('couchbase');
    expect(s.hosts.map((h) => h.host)).to.deep.equal(['h1', 'h2']);
  });

  it('lists every option it knows', () => {
    const names = knownOptionNames();
    for (const n of ['operation_timeout', 'config_total_timeout', 'config_node_timeout', 'n1ql_timeout', 'views_timeout', 'durability_timeout', 'http_poll_interval', 'config_poll_interval', 'bootstrap_on', 'sasl_mech_force', 'certpath', 'truststorepath', 'network', 'compression', 'ipv6', 'dnssrv', 'enable_dns_srv', 'kv_timeout']) {
      expect(names).to.include(n);
    }
  });

  describe('as libcouchbase 2.x parses them', () => {
    it('takes a port type without a port: the default port of that type', () => {
      const s = parseConnstr('couchbase://a=http,b=mcd,c:9000=http/b');
      expect(s.hosts).to.deep.equal([
        { host: 'a', port: 0, mode: 'http', explicit: true },
        { host: 'b', port: 0, mode: 'kv', explicit: true },
        { host: 'c', port: 9000, mode: 'http', explicit: true },
      ]);
      expect(parseConnstr('couchbase://[::1]=http').hosts).to.deep.equal([{ host: '::1', port: 0, mode: 'http', explicit: true }]);
    });

    it('turns TLS on with ?ssl=on (or no_verify) on a couchbase:// string', () => {
      const s = parseConnstr('couchbase://h/b?ssl=on&certpath=/ca.pem');
      expect(s.tls).to.equal(true);
      expect(s.scheme).to.equal('couchbases');
      expect(s.options.certpath).to.equal('/ca.pem');
      expect(parseConnstr('couchbase://h?ssl=no_verify').tls).to.equal(true);
      expect(parseConnstr('couchbase://h:11207=mcds?ssl=on').hosts[0]).to.deep.equal({ host: 'h', port: 11207, mode: 'kv', explicit: true });
      rejects('couchbase://h:11207=mcds', /=mcds is a TLS port; use couchbases/);
      rejects('couchbase://h?keypath=/k.pem&ssl=on', /keypath needs certpath/);
      rejects('couchbase://h:1=mccompat', /memcached-compatible ports are not supported/);
    });

    it('reads a bare host list as libcouchbase does: its bare ports are HTTP ports', () => {
      const s = parseConnstr('h1:9000,h2:8091/b');
      expect(s.hosts).to.deep.equal([
        { host: 'h1', port: 9000, mode: 'http', explicit: true },
        { host: 'h2', port: 8091, mode: 'http' },
      ]);
    });

    it('reads bare numbers in seconds for libcouchbase names and Go-style durations everywhere', () => {
      const s = parseConnstr('couchbase://h?operation_timeout=5ms3us&config_total_timeout=1m30s&views_timeout=.5&durability_interval=1.5ms&n1ql_timeout=250us');
      expect(s.options.operation_timeout).to.be.closeTo(0.005003, 1e-12);
      expect(s.options.config_total_timeout).to.equal(90);
      expect(s.options.views_timeout).to.equal(0.5);
      expect(s.options.durability_interval).to.be.closeTo(0.0015, 1e-12);
      expect(s.options.n1ql_timeout).to.be.closeTo(0.00025, 1e-12);
      expect(parseConnstr('couchbase://h?kv_timeout=1m').options.operation_timeout).to.equal(60);
      expect(parseConnstr('couchbase://h', { kv_timeout: 750, operation_timeout: undefined }).options.operation_timeout).to.equal(0.75);
      rejects('couchbase://h?operation_timeout=5ms3', /not a duration; give seconds like 2.5 or a duration like 2500ms/);
      rejects('couchbase://h?kv_timeout=2.5x', /not a duration; give milliseconds like 2500/);
      rejects('couchbase://h?operation_timeout=1d', /not a duration/);
    });

    it('takes couchbase+dnssrv:// with one host and no port', () => {
      const s = parseConnstr('couchbases+dnssrv://cluster.example.com/b');
      expect(s).to.include({ dnssrv: true, tls: true, scheme: 'couchbases', bucket: 'b' });
      expect(parseConnstr('couchbase+dnssrv://c.example').tls).to.equal(false);
      rejects('couchbase+dnssrv://a.example,b.example', /exactly one host/);
      rejects('couchbase+dnssrv://a.example:11210=mcd', /without a port/);
      rejects('couchbase+dnssrv://a.example?dnssrv=false', /contradicts the \+dnssrv scheme/);
      expect(parseConnstr('couchbase://a.example?dnssrv=off').options.enable_dns_srv).to.equal(false);
    });

    it('acts on network, compression and ipv6', () => {
      const s = parseConnstr('couchbase://h?network=external&compression=inflate_only&ipv6=only&compression_min_ratio=0.5');
      expect(s.options).to.include({ network: 'external', compression: 'inflate_only', ipv6: 'only', compression_min_ratio: 0.5 });
      expect(DEFAULT_OPTIONS).to.include({ network: 'auto', compression: 'on', enable_dns_srv: true });
    });

    it("acts on Python's quiet and on http_timeout (management requests: design documents, index DDL, flush)", () => {
      expect(parseConnstr('couchbase://h?quiet=1&http_timeout=5').options).to.include({ quiet: true, http_timeout: 5 });
      expect(parseConnstr('couchbase://h?management_timeout=2500').options.http_timeout).to.equal(2.5);
      expect(DEFAULT_OPTIONS).to.include({ quiet: false, http_timeout: 75 });
    });

    it("acts on libcouchbase's tracing_* options (seconds, counts; any of them turns tracing on) and log_redaction", () => {
      expect(DEFAULT_OPTIONS).to.include({ enable_tracing: false, tracing_threshold_kv: 0.5, tracing_threshold_n1ql: 1, tracing_threshold_queue_size: 128, tracing_orphaned_queue_flush_interval: 10, log_redaction: false });
      const o = parseConnstr('couchbase://h?tracing_threshold_kv=0.25&tracing_threshold_view=2&tracing_orphaned_queue_size=7&log_redaction=on').options;
      expect(o).to.include({ enable_tracing: true, tracing_threshold_kv: 0.25, tracing_threshold_view: 2, tracing_orphaned_queue_size: 7, log_redaction: true });
      rejects('couchbase://h?tracing_threshold_queue_size=-1', /tracing_threshold_queue_size=-1 must be an integer >= 0/);
    });

    it('refuses, by name and with the reason, every option it would not act on', () => {
      for (const [opt, why] of [
        ['config_cache=/tmp/c', /option "config_cache" is not supported by this client: the engine keeps no config cache file/],
        ['http_poolsize=5', /option "http_poolsize" is not supported/],
        ['error_thresh_count=3', /option "error_thresh_count" is not supported/],
        ['console_log_level=5', /set DEBUG=deferbase/],
      ] as const) {
        rejects(`couchbase://h?${opt}`, why);
      }
      rejects('couchbase://h', /option "http_poolsize" is not supported/, { http_poolsize: 5 });
      // A value asking for what the engine does anyway is honoured, so it is accepted.
      expect(parseConnstr('couchbase://h?enable_tracing=true').options.enable_tracing).to.equal(true);
      expect(() => parseConnstr('couchbase://h?enable_tracing=false&log_redaction=off&console_log_level=0&wait_for_config=true&vb_noguess=1')).to.not.throw();
    });
  });
});
