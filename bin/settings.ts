// Node-RED's settings file for `npm start` and the container (`node-red --settings dist/bin/settings.js`): the
// values come from the environment (bin/node-red-settings.ts).
import { nodeRedSettings } from './node-red-settings';

export = nodeRedSettings(process.env);
