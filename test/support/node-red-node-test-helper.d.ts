// The parts of node-red-node-test-helper (which ships no types) that the tests use.
declare module 'node-red-node-test-helper' {
  import type { Node } from 'node-red';
  interface TestNode extends Node {
    on(event: 'input', listener: (msg: Record<string, unknown>) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    receive(msg: Record<string, unknown>): void;
  }
  interface NodeTestHelper {
    init(runtimePath: string, settings?: Record<string, unknown>): void;
    load(nodes: unknown | unknown[], flow: object[], credentials?: object): Promise<void>;
    unload(): Promise<void>;
    startServer(done: (err?: unknown) => void): void;
    stopServer(done: (err?: unknown) => void): void;
    getNode(id: string): TestNode;
    settings(s: Record<string, unknown>): void;
    /** The runtime's credential store: which properties of a node type it keeps out of the flow file. */
    credentials: { getDefinition(type: string): Record<string, { type: string }> | undefined };
  }
  const helper: NodeTestHelper;
  export default helper;
}
