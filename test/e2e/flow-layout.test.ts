// The shipped flows read well in the editor: every node on the 20 px grid, a comment per part, and, drawn by Node-RED
// in Chromium, no two node boxes overlapping, the status texts the running region flow shows included.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runtimePackage } from '../support/node-red';
import { startAdvis, type RunningAdvis } from '../support/runtime';
import { describeNeeding } from '../support/shared';

const CHROMIUM = process.env.ADVIS_CHROMIUM ?? '/usr/bin/chromium';
const shippedFlows = [
  ...fs.readdirSync('flows').filter((f) => f.endsWith('.json') && !f.endsWith('.site.json')).map((f) => path.join('flows', f)),
  ...fs.readdirSync('examples').map((f) => path.join('examples', f)),
];
type FlowNode = { id: string; type: string; x?: number; y?: number; name?: string };
const read = (file: string): FlowNode[] => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('the shipped flows, as files', () => {
  for (const file of shippedFlows)
    it(`${file}: every node on the 20 px grid, and a comment that says what it does`, () => {
      const placed = read(file).filter((n) => n.x !== undefined);
      expect(placed.filter((n) => n.x! % 20 || n.y! % 20).map((n) => `${n.id} ${n.x},${n.y}`)).to.deep.equal([]);
      expect(placed.filter((n) => n.type === 'comment')).to.have.length.greaterThan(0);
    });
  it('the region flow has a comment per part: receive, decide, answer, deliver, errors', () => {
    expect(read(path.join('flows', 'region.json')).filter((n) => n.type === 'comment').map((n) => n.name)).to.have.length(5);
  });
});

declare const RED: {
  view: { importNodes(nodes: object[], options?: { addFlow?: boolean; generateIds?: boolean }): void };
  workspaces: { active(): string };
};

interface Box { node: string; label: string; left: number; top: number; right: number; bottom: number }

/** The drawn boxes of the active tab: each node's box and, where it shows one, its status text. */
async function drawnBoxes(page: Page): Promise<Box[]> {
  return page.evaluate(() => {
    const boxes: { node: string; label: string; left: number; top: number; right: number; bottom: number }[] = [];
    for (const group of Array.from(document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group'))) {
      const node = (group as SVGGElement).id;
      const id = `"${group.querySelector('.red-ui-flow-node-label')?.textContent ?? node}"`;
      const rect = group.querySelector('rect.red-ui-flow-node')!.getBoundingClientRect();
      boxes.push({ node, label: id, left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom });
      const status = group.querySelector('g.red-ui-flow-node-status-group') as SVGGElement | null;
      if (status && status.style.display !== 'none') {
        const s = status.getBoundingClientRect();
        if (s.width > 0) boxes.push({ node, label: `${id} status`, left: s.left, top: s.top, right: s.right, bottom: s.bottom });
      }
    }
    return boxes;
  });
}

function overlaps(boxes: Box[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      if (a.node === b.node) continue; // a node and its own status
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) found.push(`${a.label} × ${b.label}`);
    }
  return found;
}

describeNeeding(`the shipped flows in the editor, in Chromium (${runtimePackage})`, fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install chromium)`, function () {
  this.timeout(90000);
  let advis: RunningAdvis;
  let browser: Browser;
  let page: Page;

  before(async () => {
    advis = await startAdvis();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    page = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
    await page.goto(advis.base + '/');
    await page.waitForSelector('#red-ui-workspace-chart g.red-ui-flow-node-group', { timeout: 30000 });
  });
  after(async () => {
    await browser?.close();
    await advis?.stop();
  });

  it('the running region flow: no two node boxes overlap, status texts included', async () => {
    // The listener's status ("listening on …") is the one the flow shows from the start.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('g.red-ui-flow-node-status-group')).some((g) => (g as SVGGElement).getBoundingClientRect().width > 0), null, { timeout: 15000 });
    const boxes = await drawnBoxes(page);
    expect(boxes.filter((b) => b.label.endsWith('status')).length).to.be.greaterThan(0);
    expect(boxes.length).to.be.greaterThan(20);
    expect(overlaps(boxes)).to.deep.equal([]);
  });

  for (const file of shippedFlows.filter((f) => f !== path.join('flows', 'region.json')))
    it(`${file}, imported: no two node boxes overlap`, async () => {
      await page.evaluate((nodes) => RED.view.importNodes(nodes, { addFlow: true, generateIds: true }), read(file).filter((n) => n.type !== 'tab'));
      await page.waitForTimeout(300);
      const boxes = await drawnBoxes(page);
      expect(boxes.length).to.equal(read(file).filter((n) => n.x !== undefined).length);
      expect(overlaps(boxes)).to.deep.equal([]);
    });
});
