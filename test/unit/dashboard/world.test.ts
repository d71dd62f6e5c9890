import { describe, expect, it } from 'vitest';
import { equalEarth, project, worldMap } from '../../../src/dashboard/world.js';

describe('the world map', () => {
  it('projects with Equal Earth: the origin in the middle, the poles flat, symmetric', () => {
    const w = worldMap();
    expect(project(0, 0)).toEqual([expect.closeTo(w.width / 2, 6), expect.closeTo(w.height / 2, 0)]);
    expect(equalEarth(180, 0)[0]).toBeCloseTo(2.7066, 3); // the published half-width of the projection
    expect(equalEarth(0, 90)[1]).toBeCloseTo(1.3173, 3);
    const [x1, y1] = equalEarth(30, 45);
    const [x2, y2] = equalEarth(-30, -45);
    expect([x1 + x2, y1 + y2]).toEqual([expect.closeTo(0, 9), expect.closeTo(0, 9)]);
  });

  it('has a shape per country, keyed by the alpha-2 codes GeoIP stores, as valid compact paths', () => {
    const { shapes, width, height } = worldMap();
    for (const c of ['US', 'FR', 'RU', 'FJ', 'XK', 'SO', 'CY', 'AQ', 'BR']) expect(shapes[c], c).toMatch(/^M\d+ \d+l/);
    expect(Object.keys(shapes).length).toBeGreaterThan(170);
    for (const [code, d] of Object.entries(shapes)) {
      expect(d, code).toMatch(/^(M-?\d+ -?\d+(l(-?\d+)( ?-?\d+)*)?z)+$/);
      expect(d, code).not.toContain('lz');
    }
    // Fiji and Russia cross the antimeridian: no ring spans the map from edge to edge.
    const span = (d: string) => {
      const xs: number[] = [];
      for (const ring of d.split('z').filter(Boolean)) {
        const nums = ring.replace('M', '').replace('l', ' ').replace(/-/g, ' -').trim().split(/\s+/).map(Number);
        let x = nums[0] as number;
        xs.push(x);
        for (let i = 2; i < nums.length; i += 2) xs.push((x += nums[i] as number));
      }
      return Math.max(...xs) - Math.min(...xs);
    };
    expect(span(shapes.FJ as string)).toBeLessThan(width / 10);
    expect(span(shapes.US as string)).toBeLessThan(width); // Alaska's Aleutians stay west of the date line in the data
    expect(height).toBeGreaterThan(400);
  });
});
