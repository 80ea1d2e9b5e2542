// One engine instance of the cluster benchmark (bench/engine.ts, benchEngineCluster), in a process of its own as each
// Node-RED instance is: `node engine-instance.js URL BATCH FIRST STAYS`. It warms up on stays of its own, reports
// ready, decides its stays when told `go`, and reports how many advis it made.
import { openEngineRun, WARM_UP_STAYS } from './engine';

async function main(): Promise<void> {
  const [url, batch, first, stays] = process.argv.slice(2);
  const engine = await openEngineRun(url, Number(batch));
  await engine.run(Number(first), WARM_UP_STAYS);
  process.send!({ ready: true });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  const { advis } = await engine.run(Number(first) + WARM_UP_STAYS, Number(stays));
  process.send!({ advis });
  await engine.close();
}

main().catch((error: unknown) => {
  process.send!({ error: (error as Error).message });
  process.exitCode = 1;
});
