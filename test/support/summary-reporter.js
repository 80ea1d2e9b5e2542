// Mocha reporter: the spec reporter's output, plus the run's counts written as JSON to $ADVIS_TEST_STATS so that
// test/run.js can add up several mocha runs into the one closing line CI reads ("N passed, N failed").
const fs = require('node:fs');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.ADVIS_TEST_STATS;
      if (file) {
        const { passes, failures, pending } = runner.stats;
        fs.writeFileSync(file, JSON.stringify({ passes, failures, pending }));
      }
    });
  }
}
module.exports = SummaryReporter;
