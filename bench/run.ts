// `npm run bench`: the figures the README quotes, measured on this machine. Never part of the test run.
// Pin to one core for comparable numbers: `taskset -c 0 npm run bench`. One part alone: `npm run bench -- engine`
// (parts: parse, validate, engine, mllp, outbox). The npm script runs with UV_THREADPOOL_SIZE=32, as `npm start` does.
import { benchDelivery } from './delivery';
import { benchEngine, WARM_UP_STAYS } from './engine';
import { benchMllp } from './mllp';
import { benchOutbox } from './outbox';
import { benchParse } from './parse';
import { benchValidate } from './validate';

const BENCHES: Record<string, () => Promise<void>> = {
  async parse() {
    const parse = await benchParse();
    console.log(`HL7 parse + AdtEvent extraction: ${Math.round(parse.messagesPerSecond).toLocaleString('en')} messages/s (${parse.samples} samples)`);
  },
  async validate() {
    const validate = await benchValidate();
    console.log(`MedCom validation: ${validate.msPerBundle.toFixed(2)} ms per Bundle warm (${validate.bundles} IG examples; profiles loaded once in ${Math.round(validate.loadMs)} ms)`);
  },
  async engine() {
    for (const batch of [1, 64]) {
      const engine = await benchEngine(batch);
      const how = batch === 1 ? 'one commit per message' : `up to ${batch} waiting messages per commit`;
      console.log(`Engine end to end (parse, decide, build, validate, durable commit), ${how}: ${Math.round(engine.advisPerSecond)} advis/s (${engine.stays} stays, STIN + SLHJ each, after ${WARM_UP_STAYS} warm-up stays)`);
      if (batch === 1) console.log(`Store size: ${(engine.bytesPer100kStays / 1024 / 1024).toFixed(0)} MiB per 100,000 stays (with their outbox, audit and idempotency records)`);
    }
  },
  async outbox() {
    for (const concurrency of [8, 32]) {
      const f = await benchOutbox(10_000, concurrency);
      console.log(`Outbox drain of a ${f.messages.toLocaleString('en')}-message backlog, ${concurrency} stays at once: VANS folder ${Math.round(f.folder)} messages/s (envelope, file and folder fsync, sent committed); FHIR REST ${Math.round(f.rest)} messages/s (synchronous Acknowledgement, sent and delivered committed)`);
    }
    for (const inFlight of [8, 32]) {
      const raw = await benchDelivery(10_000, inFlight);
      console.log(`The sinks alone, ${inFlight} in flight (no store): VANS folder ${Math.round(raw.folder.concurrent)} messages/s, FHIR REST ${Math.round(raw.rest.concurrent)} messages/s`);
    }
  },
  async mllp() {
    for (const f of await benchMllp()) {
      const load = f.pace ? `${f.pace} messages/s offered` : 'as fast as ACKs return';
      console.log(`MLLP hl7 in → hl7 response, ${f.connections} connection(s), ${load}: ${Math.round(f.messagesPerSecond).toLocaleString('en')} messages/s, ACK latency p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms`);
    }
  },
};

async function main(): Promise<void> {
  const chosen = process.argv.slice(2);
  const unknown = chosen.filter((name) => !(name in BENCHES));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}: choose from ${Object.keys(BENCHES).join(', ')}`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  for (const name of chosen.length ? chosen : Object.keys(BENCHES)) await BENCHES[name]();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
