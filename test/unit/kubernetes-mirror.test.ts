/**
 * The rollout bell's mirror of one collection (src/activities/kubernetes/bell.ts): kept from a list
 * and the watch's events, ordered by resourceVersion, never read while it lags a write of ours.
 * The same mirror on a real API server: test/integration/kubernetes-rollout.test.ts. And how a look
 * tells the new ReplicaSet: template identity.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { compareResourceVersions, Mirror } from '../../src/activities/kubernetes/bell';
import { sameTemplate } from '../../src/activities/kubernetes/snapshot';

function pod(name: string, resourceVersion: string, phase = 'Running'): KubernetesObject {
  // As a watch event carries it: plain JSON, dates as strings.
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'p', uid: `uid-${name}`, resourceVersion, creationTimestamp: '2026-12-01T10:00:00Z' as unknown as Date }, status: { phase } } as KubernetesObject;
}

const names = (m: Mirror) => m.current()?.map((o) => o.metadata?.name).sort();

test('resourceVersions are ordered as KEP-5504 integers, and not at all when either is not one', () => {
  expect(compareResourceVersions('9', '10')).toBe(-1);
  expect(compareResourceVersions('100', '99')).toBe(1);
  expect(compareResourceVersions('1234', '1234')).toBe(0);
  expect(compareResourceVersions('1235', '1234')).toBe(1);
  expect(compareResourceVersions('012', '12')).toBeUndefined();
  expect(compareResourceVersions('abc', '12')).toBeUndefined();
  expect(compareResourceVersions('0', '12')).toBeUndefined();
});

test('a listed mirror follows added, modified and deleted objects, typed as a list returns them', () => {
  const m = new Mirror('V1Pod');
  expect(m.current()).toBeUndefined(); // not listed yet
  m.load({ metadata: { resourceVersion: '10' }, items: [pod('a', '8'), pod('b', '9')] });
  expect(names(m)).toEqual(['a', 'b']);
  m.apply('ADDED', pod('c', '11'));
  m.apply('MODIFIED', pod('a', '12', 'Failed'));
  m.apply('DELETED', pod('b', '13'));
  expect(names(m)).toEqual(['a', 'c']);
  const a = m.current()!.find((o) => o.metadata?.name === 'a') as V1Pod;
  expect(a.status?.phase).toBe('Failed');
  expect(a.metadata?.creationTimestamp).toBeInstanceOf(Date);
  m.apply('BOOKMARK', { metadata: { resourceVersion: '14' } });
  expect(names(m)).toEqual(['a', 'c']);
});

test('a write of ours keeps the mirror unread until an event at or after its resourceVersion, whether the write came before or after the list', () => {
  // Each way a copy starts, with a write answered at 12 that it has not seen yet.
  const starts: Record<string, (m: Mirror) => void> = {
    'written after the list': (m) => {
      m.load({ metadata: { resourceVersion: '10' }, items: [pod('a', '10')] });
      m.wrote('12');
    },
    'written before the list answered': (m) => {
      m.wrote('12');
      m.load({ metadata: { resourceVersion: '11' }, items: [pod('a', '10')] });
    },
    'a copy started by its watch\'s first event (no list)': (m) => {
      m.wrote('12');
      m.apply('ADDED', pod('a', '10'));
    },
  };
  for (const [how, start] of Object.entries(starts)) {
    const m = new Mirror('V1Pod');
    start(m);
    expect([how, m.current()]).toEqual([how, undefined]);
    m.apply('MODIFIED', pod('a', '11'));
    expect([how, m.current()]).toEqual([how, undefined]);
    m.apply('MODIFIED', pod('a', '12'));
    expect([how, names(m)]).toEqual([how, ['a']]);
    // A write older than what the mirror holds is already in it.
    m.wrote('11');
    expect([how, names(m)]).toEqual([how, ['a']]);
  }
});

test('a mirror that cannot be trusted is never read again: an ERROR event, a resourceVersion that cannot be ordered, a write without one, a stop', () => {
  const cases: ((m: Mirror) => void)[] = [
    (m) => m.apply('ERROR', { metadata: {} }),
    (m) => m.apply('MODIFIED', pod('a', 'not-a-number')),
    (m) => m.wrote(undefined),
    (m) => m.wrote('x1'),
    (m) => m.stop(),
  ];
  for (const breakIt of cases) {
    const m = new Mirror('V1Pod');
    m.load({ metadata: { resourceVersion: '10' }, items: [pod('a', '10')] });
    expect(names(m)).toEqual(['a']);
    breakIt(m);
    expect(m.current()).toBeUndefined();
    m.apply('MODIFIED', pod('a', '50'));
    expect(m.current()).toBeUndefined();
  }
});

test('template identity as the controller sees it: the pod-template-hash label, key order and empty values aside', () => {
  const base = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'img:v1', env: [{ name: 'A', value: '1' }] }] } };
  const rs = { metadata: { labels: { 'pod-template-hash': 'abc123', app: 'x' }, creationTimestamp: null }, spec: { containers: [{ image: 'img:v1', name: 'app', env: [{ value: '1', name: 'A' }] }] } };
  expect(sameTemplate(base, rs as never)).toBe(true);
  expect(sameTemplate(base, { ...base, spec: { containers: [{ name: 'app', image: 'img:v2' }] } })).toBe(false);
  // The order of a list matters (containers, env), the order of keys does not.
  expect(sameTemplate(base, { ...base, spec: { containers: [{ name: 'app', image: 'img:v1', env: [{ name: 'A', value: '2' }] }] } })).toBe(false);
  // Labels holding only the hash are no labels; metadata left empty is still metadata (as before).
  expect(sameTemplate({ metadata: { labels: { 'pod-template-hash': 'h' } }, spec: base.spec }, { metadata: {}, spec: base.spec })).toBe(true);
  expect(sameTemplate({ metadata: {}, spec: base.spec }, { spec: base.spec })).toBe(false);
  expect(sameTemplate(undefined, undefined)).toBe(true);
  // Dates compare by value, as the API serializes them.
  const at = (iso: string) => ({ metadata: { labels: { app: 'x' }, annotations: { restarted: 'yes' } }, spec: { containers: [], activeDeadlineSeconds: 5 }, at: new Date(iso) });
  expect(sameTemplate(at('2026-12-01T10:00:00Z') as never, at('2026-12-01T10:00:00Z') as never)).toBe(true);
  expect(sameTemplate(at('2026-12-01T10:00:00Z') as never, at('2026-12-01T11:00:00Z') as never)).toBe(false);
});
