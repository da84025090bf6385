/**
 * `npm run demo`: shipwatch end to end on this machine. Builds or reuses the tools, starts the
 * local Temporal (with its Web UI), a kwok Kubernetes cluster, PostgreSQL, Prometheus and the
 * sample service at v0.9.0, starts a worker, and deploys v1.0.0 through every phase with a short
 * watch window, printing the live timeline, the Web UI address, and the report.
 *
 *   npm run demo                               # a good release, 2-minute watch window
 *   npm run demo -- --scenario bad-release     # errors appear in the watch window: automatic rollback
 *   npm run demo -- --full-watch               # the seed's 24-hour window, 30 s checks
 *   npm run demo -- --exit                     # stop everything once the deployment ends
 *   npm run demo -- --release                  # a release train: user-management, then audit-log
 *   npm run demo -- --release --scenario bad-release   # audit-log's smoke suite fails: both roll back
 *
 * Ctrl-C stops everything the demo started.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultContext } from '../src/cli/context';
import { createOutput } from '../src/cli/output';
import { deployCommand } from '../src/commands/deploy';
import { reportCommand } from '../src/commands/report';
import { statusCommand } from '../src/commands/status';
import { connectClient } from '../src/cli/connect';
import type { CommandContext } from '../src/cli/context';
import { releaseStartCommand, releaseStatusCommand } from '../src/commands/release';
import { statusQuery, deploymentWorkflowId } from '../src/workflows/messages';
import { REPO, freeLoopbackPort, startStack } from './local/stack';
import type { LocalStack } from './local/stack';
import { waitForPort } from './local/temporal';

const say = (line: string) => process.stderr.write(`[demo] ${line}\n`);

async function portFree(port: number): Promise<boolean> {
  return waitForPort(port, 0).then(
    () => false,
    () => true,
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'good' },
      'full-watch': { type: 'boolean', default: false },
      exit: { type: 'boolean', default: !process.stdout.isTTY },
      release: { type: 'boolean', default: false },
    },
  });
  const scenario = values.scenario;
  if (!['good', 'bad-release'].includes(scenario)) {
    say(`--scenario must be "good" or "bad-release", not "${scenario}"`);
    return 2;
  }

  const t0 = Date.now();
  say('preparing tools (cached under ~/.cache/shipwatch; the first run builds Temporal, Kubernetes and etcd from source, about 25 minutes on 2 cores)…');
  execFileSync('bash', [join(REPO, 'tools', 'setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  say(`tools ready after ${Math.round((Date.now() - t0) / 1000)}s`);

  const temporalPort = (await portFree(7233)) ? 7233 : await freeLoopbackPort();
  const uiPort = (await portFree(8233)) ? 8233 : await freeLoopbackPort();
  const running: { stack?: LocalStack } = {};
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping everything the demo started…');
    await running.stack?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));

  const stack = await startStack({ name: 'demo', stateDir: join(REPO, '.shipwatch', 'demo'), temporalPort, uiPort, log: say, auditLog: values.release });
  running.stack = stack;
  say(`sample service v0.9.0 on ${stack.serviceUrl} (3 pods), Prometheus on ${stack.prometheus.url}`);
  if (stack.auditLog) say(`second sample service audit-log v0.9.0 on ${stack.auditLog.serviceUrl} (2 pods), calling user-management's API`);
  await stack.startWorker();
  say('shipwatch worker running');

  process.env.TEMPORAL_ADDRESS = stack.temporalAddress;
  process.env.TEMPORAL_NAMESPACE = 'default';
  process.env.TEMPORAL_UI_URL = stack.uiUrl;
  if (values.release) {
    const code = await releaseTrain(stack, { bad: scenario === 'bad-release', fullWatch: values['full-watch'] });
    if (values.exit) {
      await shutdown(code);
      return code;
    }
    say('everything keeps running so you can look around; Ctrl-C stops it all.');
    await new Promise(() => undefined);
  }
  const spec = stack.writeSpec(
    values['full-watch']
      ? { release: 'v1.0.0', stepWindow: '10m', watch: '24h', interval: '30s', pageAfter: '5m', rollbackAfter: '15m', alertFor: '2m' }
      : { release: 'v1.0.0' },
  );
  say(`deploy spec: ${spec}`);
  say(`Web UI: ${stack.uiUrl}  (Temporal at ${stack.temporalAddress})`);
  const id = deploymentWorkflowId('production', 'user-management');
  say(`roll back by hand at any time:  TEMPORAL_ADDRESS=${stack.temporalAddress} ./bin/shipwatch.js rollback ${id} --reason "…"`);

  if (scenario === 'bad-release') void breakReleaseInWatch(stack, id);

  const ctx = defaultContext(createOutput());
  const code = await deployCommand({ file: spec, wait: true }, ctx);
  ctx.out.line('');
  await reportCommand({ id, format: 'md' }, ctx);
  ctx.out.line('');
  await statusCommand({ id }, ctx);
  ctx.out.line('');
  ctx.out.line(`Notifications received by the local Slack/pager webhook: ${stack.receiver.received.length}`);
  ctx.out.line(`Temporal Web UI: ${stack.uiUrl}/namespaces/default/workflows/${id}`);
  if (values.exit) {
    await shutdown(code);
    return code;
  }
  say('everything keeps running so you can look around; Ctrl-C stops it all.');
  await new Promise(() => undefined);
  return code;
}

/**
 * `--release`: the sample release train (examples/release.yaml on this stack): user-management
 * v1.0.0, then audit-log v1.0.0 once user-management is in its watch window, one shared watch
 * window, then the release report (with the merged timeline) and each service's stage. The bad
 * scenario gives the new audit-log pods a user-management address that does not exist: audit-log's
 * smoke suite fails, it rolls back, and user-management is rolled back with it.
 */
async function releaseTrain(stack: LocalStack, o: { bad: boolean; fullWatch: boolean }): Promise<number> {
  const name = `accounts-demo-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
  const service = (release: string) => (o.fullWatch ? { release, stepWindow: '10m', interval: '30s', pageAfter: '5m', rollbackAfter: '15m', alertFor: '2m' } : { release });
  const file = stack.writeReleaseSpec({
    name,
    userManagement: service('v1.0.0'),
    auditLog: { ...service('v1.0.0'), ...(o.bad ? { podEnv: { USER_MANAGEMENT_URL: 'http://user-management-v2.production:8080' } } : {}) },
    watch: o.fullWatch ? '24h' : '2m',
    trainTimeout: o.fullWatch ? '6h' : '15m',
    statusInterval: '2s',
  });
  say(`release spec: ${file}`);
  say(`Web UI: ${stack.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`ShipwatchTrain="${name}"`)}  (the release and its two deployments)`);
  say(`watch it:       TEMPORAL_ADDRESS=${stack.temporalAddress} ./bin/shipwatch.js release status ${name}`);
  say(`roll it back:   TEMPORAL_ADDRESS=${stack.temporalAddress} ./bin/shipwatch.js release rollback ${name} --reason "…"`);
  const ctx: CommandContext = defaultContext(createOutput());
  // Waits for the end and prints the release report: per service what ran and what was undone,
  // then the merged timeline of the release and both services (`shipwatch release timeline` prints the same).
  const code = await releaseStartCommand({ file, wait: true }, ctx);
  ctx.out.line('');
  await releaseStatusCommand({ name }, ctx).catch(() => undefined);
  ctx.out.line('');
  ctx.out.line(`Notifications received by the local Slack/pager webhook: ${stack.receiver.received.length}`);
  ctx.out.line(`Temporal Web UI: ${stack.uiUrl}/namespaces/default/workflows/release-${name}`);
  return code;
}

/** The bad release passes its checks, then starts failing under traffic once the watch begins. */
async function breakReleaseInWatch(stack: LocalStack, id: string): Promise<void> {
  const cli = await connectClient();
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 1_000));
      const status = await cli.client.workflow
        .getHandle(id)
        .query(statusQuery)
        .catch(() => undefined);
      if (!status) continue;
      if (status.outcome !== 'IN_PROGRESS') return;
      if (status.phase === 'WATCH') {
        const pods = await stack.injectFaults(status.release, { errorRate: 0.5 });
        say(`bad release: ${pods} pods of ${status.release} now fail half of their requests`);
        return;
      }
    }
  } finally {
    await cli.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    say(`failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
