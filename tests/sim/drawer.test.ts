import { describe, expect, it } from 'vitest';
import { Simulation } from '../../sim/physics/simulation.ts';

describe('cabinet drawer', () => {
  // a flush drawer front used to jam against the carcass at some cabinet positions
  it.each([-0.28, -0.2975, -0.3, 0, 0.15])('slides open under a 5 N pull with the cabinet at y = %f', async (y) => {
    const sim = await Simulation.create({
      scene: { table: { pos: [0.5, 0, 0.4], halfSize: [0.4, 0.6] }, objects: [{ type: 'cabinet', name: 'cab', pos: [0.7, y, 0.4], size: [0.12, 0.16, 0.14], travel: 0.19, fixed: true }] },
    });
    try {
      const dof = sim.jointDofAdr('cab_drawer_joint');
      for (let i = 0; i < 500; i++) {
        (sim.data.qfrc_applied as Float64Array)[dof] = 5;
        sim.step(1);
      }
      expect(sim.jointPositions(['cab_drawer_joint'])[0]).toBeGreaterThan(0.15);
    } finally {
      sim.dispose();
    }
  });
});
