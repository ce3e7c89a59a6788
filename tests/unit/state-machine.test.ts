import { describe, expect, test } from "bun:test";
import {
  actions,
  assertTransition,
  canTransition,
  IllegalTransitionError,
  type InstanceState,
  instanceStates,
  transitions,
} from "../../src/instances/state-machine";

const legal = new Set([
  "pending>running",
  "pending>failed",
  "pending>non_bootstrap",
  "pending>stopping",
  "pending>stopped",
  "running>stopping",
  "running>failed",
  "running>pending",
  "running>stopped",
  "stopping>stopped",
  "stopping>failed",
  "stopped>pending",
  "failed>pending",
  "non_bootstrap>pending",
]);

describe("instance state machine", () => {
  // Every ordered pair of states, so a transition added or removed by mistake fails here.
  for (const from of instanceStates) {
    for (const to of instanceStates) {
      const allowed = legal.has(`${from}>${to}`);
      test(`${from} → ${to} is ${allowed ? "allowed" : "refused"}`, () => {
        expect(canTransition(from, to)).toBe(allowed);
        if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
        else expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
      });
    }
  }

  test("the spec's core path is legal end to end", () => {
    const path = ["pending", "running", "stopping", "stopped", "pending", "running"] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1]!, path[i]!)).toBe(true);
  });

  test("a refused Stop or Start says why in product words and what to do instead", () => {
    const refusal = (from: InstanceState, to: InstanceState) => {
      try {
        assertTransition(from, to, "Instance 'chat-a'");
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`${from} → ${to} was allowed`);
    };
    expect(refusal("failed", "stopping")).toBe("Instance 'chat-a' has failed, so there is nothing to stop; start it again or delete it.");
    expect(refusal("non_bootstrap", "stopping")).toBe(
      "Instance 'chat-a' never became healthy and its pod is released, so there is nothing to stop; start it again or delete it.",
    );
    expect(refusal("stopped", "stopping")).toBe("Instance 'chat-a' is already stopped, so there is nothing to stop.");
    expect(refusal("stopping", "stopping")).toBe("Instance 'chat-a' is already stopping.");
    expect(refusal("running", "running")).toBe("Instance 'chat-a' is running, so it cannot be marked running now.");
    expect(refusal("pending", "pending")).toBe("Instance 'chat-a' is already starting.");
    expect(refusal("stopping", "pending")).toBe("Instance 'chat-a' is still stopping; start it once it has stopped.");
    expect(refusal("stopped", "running")).toBe("Instance 'chat-a' is stopped, so it cannot be marked running now.");
    // No state's code name ("non_bootstrap") nor the old "cannot become stopping" reaches a person.
    for (const from of instanceStates) {
      for (const to of instanceStates) {
        if (canTransition(from, to)) continue;
        const message = refusal(from, to);
        expect(message).not.toContain("_");
        expect(message).not.toContain("cannot become");
      }
    }
  });

  test("actions start only from states whose transitions allow them", () => {
    for (const from of actions.start) expect(canTransition(from, "pending")).toBe(true);
    for (const from of actions.stop) expect(canTransition(from, "stopping")).toBe(true);
  });

  test("every state has an entry and no self-loops", () => {
    for (const state of instanceStates) expect(transitions[state]).not.toContain(state);
  });
});
