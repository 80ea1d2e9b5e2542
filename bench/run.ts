// `npm run bench`: the figures the README quotes, measured on this machine. Never part of the test run.
// Pin to one core for comparable numbers: `taskset -c 0 npm run bench`.
import { benchEngine } from './engine';
import { benchParse } from './parse';
import { benchValidate } from './validate';

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  const parse = await benchParse();
  console.log(`HL7 parse + AdtEvent extraction: ${Math.round(parse.messagesPerSecond).toLocaleString('en')} messages/s (${parse.samples} samples)`);
  const validate = await benchValidate();
  console.log(`MedCom validation: ${validate.msPerBundle.toFixed(2)} ms per Bundle warm (${validate.bundles} IG examples; profiles loaded once in ${Math.round(validate.loadMs)} ms)`);
  const engine = await benchEngine();
  console.log(`Engine end to end (parse, decide, build, validate, durable commit): ${Math.round(engine.advisPerSecond)} advis/s (${engine.stays} stays, STIN + SLHJ each)`);
  console.log(`Store size: ${(engine.bytesPer100kStays / 1024 / 1024).toFixed(0)} MiB per 100,000 stays (with their outbox, audit and idempotency records)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
