// The status throttle: at most one message a second per resource, the latest winning, repeats dropped.
import { LatestWins } from "../../../provider/status/throttle";

describe("LatestWins", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("shows the first message at once and the latest of those offered within the second after it", () => {
    const shown: string[] = [];
    const t = new LatestWins((s) => shown.push(s), 1000);
    t.offer("a");
    t.offer("b");
    t.offer("c");
    expect(shown).toEqual(["a"]);
    jest.advanceTimersByTime(999);
    expect(shown).toEqual(["a"]);
    jest.advanceTimersByTime(1);
    expect(shown).toEqual(["a", "c"]);
    // A second later, a new message goes out at once again.
    jest.advanceTimersByTime(1000);
    t.offer("d");
    expect(shown).toEqual(["a", "c", "d"]);
  });

  it("drops a message equal to the one shown last", () => {
    const shown: string[] = [];
    const t = new LatestWins((s) => shown.push(s), 1000);
    t.offer("same");
    jest.advanceTimersByTime(5000);
    t.offer("same");
    t.offer("same");
    jest.advanceTimersByTime(5000);
    expect(shown).toEqual(["same"]);
  });

  it("flush() shows the waiting message at once (a success: the row keeps the last step)", () => {
    const shown: string[] = [];
    const t = new LatestWins((s) => shown.push(s), 1000);
    t.offer("uploading: 0%");
    t.offer("uploading: 100%");
    t.flush();
    expect(shown).toEqual(["uploading: 0%", "uploading: 100%"]);
    jest.advanceTimersByTime(5000);
    t.flush();
    expect(shown).toEqual(["uploading: 0%", "uploading: 100%"]);
  });

  it("close() drops the waiting message (a failure: the row shows the error instead)", () => {
    const shown: string[] = [];
    const t = new LatestWins((s) => shown.push(s), 1000);
    t.offer("uploading: 0%");
    t.offer("uploading: 90%");
    t.close();
    jest.advanceTimersByTime(5000);
    expect(shown).toEqual(["uploading: 0%"]);
  });

  it("100 offers over 10 seconds make at most 11 messages", () => {
    const shown: string[] = [];
    const t = new LatestWins((s) => shown.push(s), 1000);
    for (let i = 0; i < 100; i++) {
      t.offer(`step ${i}`);
      jest.advanceTimersByTime(100);
    }
    jest.advanceTimersByTime(1000);
    expect(shown.length).toBeLessThanOrEqual(11);
    expect(shown[shown.length - 1]).toBe("step 99");
  });
});
