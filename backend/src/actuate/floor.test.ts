import { planFloor } from './floor';

const at = { now: 1000, floorTtl: 600 };

describe('planFloor', () => {
  it('raises a floor above the HPA’s own minimum, until now + ttl', () => {
    expect(planFloor({ minReplicas: 2, maxReplicas: 10 }, 6, at)).toEqual({
      fromMinReplicas: 2,
      originalMinReplicas: 2,
      minReplicas: 6,
      floor: { replicas: 6, originalMinReplicas: 2, expiresAt: 1600 },
      removes: undefined,
      aboveMax: false,
    });
  });

  it('keeps the minimum from before the first floor when a floor is raised again', () => {
    const active = { replicas: 6, originalMinReplicas: 2, expiresAt: 1200 };
    const plan = planFloor({ minReplicas: 6, maxReplicas: 10, floor: active }, 8, at);
    expect(plan).toMatchObject({ fromMinReplicas: 6, originalMinReplicas: 2, minReplicas: 8 });
    expect(plan.floor).toEqual({ replicas: 8, originalMinReplicas: 2, expiresAt: 1600 });
    // Lowering an active floor still above the original minimum is a new, lower floor.
    expect(planFloor({ minReplicas: 6, maxReplicas: 10, floor: active }, 4, at)).toMatchObject({
      minReplicas: 4,
      floor: { replicas: 4, originalMinReplicas: 2 },
    });
  });

  it('needs no floor at or below the HPA’s own minimum, and removes an active one', () => {
    expect(planFloor({ minReplicas: 3, maxReplicas: 10 }, 3, at)).toEqual({
      fromMinReplicas: 3,
      originalMinReplicas: 3,
      minReplicas: 3,
      floor: undefined,
      removes: undefined,
      aboveMax: false,
    });
    const active = { replicas: 6, originalMinReplicas: 2, expiresAt: 1200 };
    expect(planFloor({ minReplicas: 6, maxReplicas: 10, floor: active }, 2, at)).toEqual({
      fromMinReplicas: 6,
      originalMinReplicas: 2,
      minReplicas: 2,
      floor: undefined,
      removes: active,
      aboveMax: false,
    });
  });

  it('measures the original minimum from the floor’s record even when someone changed minReplicas since', () => {
    const active = { replicas: 6, originalMinReplicas: 2, expiresAt: 1200 };
    expect(planFloor({ minReplicas: 7, maxReplicas: 10, floor: active }, 5, at)).toMatchObject({
      fromMinReplicas: 7,
      originalMinReplicas: 2,
      minReplicas: 5,
    });
  });

  it('flags a count above spec.maxReplicas', () => {
    expect(planFloor({ minReplicas: 2, maxReplicas: 10 }, 11, at).aboveMax).toBe(true);
    expect(planFloor({ minReplicas: 2, maxReplicas: 10 }, 10, at).aboveMax).toBe(false);
  });
});
