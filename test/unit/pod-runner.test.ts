/** The pure parts of the local pod runner: relabelling exposition lines and memory quantities. */
import { addLabel, parseQuantity } from '../../tools/local/pod-runner';

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
