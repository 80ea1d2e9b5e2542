// Holds on a config node's shared resource (the site's store, a delivery sink). Node-RED closes every node of a flow
// at the same moment, config nodes included, so a config node that closed its resource at once would close it under
// work still finishing in a node that uses it: the outbox worker's last commits after a SIGTERM then failed, a
// message already handed to VANS stayed queued, and it went out a second time after the restart. A node that uses
// the resource takes a hold and lets go once its own work is done; the config node closes the resource after that.
export class Holds {
  private count = 0;
  private onReleased: (() => void)[] = [];

  /** Takes a hold; the function returned lets go of it (a second call does nothing). */
  take(): () => void {
    this.count++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      if (--this.count === 0) this.onReleased.splice(0).forEach((resolve) => resolve());
    };
  }

  /** Resolves once no hold is left (at once when there is none). */
  released(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.onReleased.push(resolve));
  }
}
