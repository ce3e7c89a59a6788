import { describe, expect, test } from "bun:test";
import { actions, assertTransition, canTransition, IllegalTransitionError, instanceStates, transitions } from "../../src/instances/state-machine";

const legal = new Set([
  "pending>running",
  "pending>failed",
  "pending>non_bootstrap",
  "pending>stopping",
  "running>stopping",
  "running>failed",
  "running>pending",
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

  test("a refusal names both states, readably", () => {
    expect(() => assertTransition("stopped", "running", "Instance 'chat-a'")).toThrow("Instance 'chat-a' is stopped and cannot become running.");
    expect(() => assertTransition("non_bootstrap", "running")).toThrow("is non-bootstrap");
  });

  test("actions start only from states whose transitions allow them", () => {
    for (const from of actions.start) expect(canTransition(from, "pending")).toBe(true);
    for (const from of actions.stop) expect(canTransition(from, "stopping")).toBe(true);
  });

  test("every state has an entry and no self-loops", () => {
    for (const state of instanceStates) expect(transitions[state]).not.toContain(state);
  });
});
