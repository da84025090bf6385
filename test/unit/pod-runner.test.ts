/** The pure parts of the local pod runner: relabelling exposition lines, memory quantities, cluster DNS. */
import { addLabel, parseQuantity, resolveServiceUrls } from '../../tools/local/pod-runner';

test('adds the pod label to samples with and without labels', () => {
  expect(addLabel('http_requests_total{method="GET",status="200"} 5', 'pod', 'p-1')).toBe(
    'http_requests_total{pod="p-1",method="GET",status="200"} 5',
  );
  expect(addLabel('active_sessions 3', 'pod', 'p-1')).toBe('active_sessions{pod="p-1"} 3');
  expect(addLabel('up{} 1', 'pod', 'p-1')).toBe('up{pod="p-1"} 1');
});

test('reads Kubernetes memory quantities', () => {
  expect(parseQuantity('256Mi')).toBe(268_435_456);
  expect(parseQuantity('1G')).toBe(1_000_000_000);
  expect(parseQuantity('512')).toBe(512);
  expect(parseQuantity('lots')).toBeUndefined();
  expect(parseQuantity(undefined)).toBeUndefined();
});

test('rewrites in-cluster Service URLs in the pods\' env to the local URLs serving them, and only those', () => {
  const services = { 'user-management.production:8080': 'http://127.0.0.1:41234/' };
  expect(
    resolveServiceUrls(
      {
        USER_MANAGEMENT_URL: 'http://user-management.production:8080',
        PROFILE: 'http://user-management.production:8080/profile?x=1',
        OTHER: 'http://user-management-v2.production:8080',
        WRONG_PORT: 'http://user-management.production:9090',
        PLAIN: 'user-management.production:8080',
      },
      services,
    ),
  ).toEqual({
    USER_MANAGEMENT_URL: 'http://127.0.0.1:41234',
    PROFILE: 'http://127.0.0.1:41234/profile?x=1',
    OTHER: 'http://user-management-v2.production:8080',
    WRONG_PORT: 'http://user-management.production:9090',
    PLAIN: 'user-management.production:8080',
  });
  expect(resolveServiceUrls({ A: 'http://x:1' }, {})).toEqual({ A: 'http://x:1' });
});
