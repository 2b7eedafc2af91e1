// The canary data plane for tests, in one fixture: pods of marked workloads run as real
// processes on loopback pod IPs, a real HAProxy splits traffic by the cluster's routing
// objects, and a real Prometheus scrapes the pods' Linkerd-format metrics.
import { PodRunner } from './pod-runner.js';
import { TestPrometheus } from './prometheus.js';
import { TrafficProxy } from './traffic-proxy.js';
import { installMeshCrds } from './mesh-crds.js';

export interface DataPlane {
  runner: PodRunner;
  prometheus: TestPrometheus;
  proxy: TrafficProxy;
  stop(): Promise<void>;
}

export async function startDataPlane(kubeconfigPath: string, namespaces: string[]): Promise<DataPlane> {
  await installMeshCrds(kubeconfigPath);
  const prometheus = await TestPrometheus.start();
  const runner = await PodRunner.start(kubeconfigPath, namespaces);
  // A failed write of the target file is retried by the next change; it must not escape.
  runner.onChange(() => void prometheus.setTargets(runner.pods()).catch(() => undefined));
  await prometheus.setTargets(runner.pods());
  const proxy = await TrafficProxy.start(kubeconfigPath, runner, namespaces);
  return {
    runner,
    prometheus,
    proxy,
    stop: async () => {
      await proxy.stop();
      await runner.stop();
      await prometheus.stop();
    },
  };
}
