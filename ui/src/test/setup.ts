import '@testing-library/jest-dom/vitest';
import { afterEach, vi } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';

// uPlot needs matchMedia, a 2D canvas context and Path2D, which jsdom lacks.
if (!window.matchMedia) {
  Object.defineProperty(window, 'matchMedia', {
    writable: true,
    value: (query: string) => ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }),
  });
}

const noop = () => {};
const ctx = new Proxy(
  {
    measureText: (t: string) => ({ width: t.length * 6, actualBoundingBoxAscent: 8, actualBoundingBoxDescent: 2 }),
    getImageData: () => ({ data: new Uint8ClampedArray(4) }),
    createLinearGradient: () => ({ addColorStop: noop }),
    createPattern: () => null,
    getLineDash: () => [],
    canvas: null as unknown,
  } as Record<string, unknown>,
  {
    get(target, prop: string) {
      if (prop in target) return target[prop];
      return noop;
    },
    set(target, prop: string, value) {
      target[prop] = value;
      return true;
    },
  },
);
HTMLCanvasElement.prototype.getContext = vi.fn(() => ctx) as unknown as HTMLCanvasElement['getContext'];

if (!('Path2D' in globalThis)) {
  class Path2DStub {
    addPath = noop;
    closePath = noop;
    moveTo = noop;
    lineTo = noop;
    bezierCurveTo = noop;
    quadraticCurveTo = noop;
    arc = noop;
    arcTo = noop;
    ellipse = noop;
    rect = noop;
  }
  (globalThis as unknown as { Path2D: unknown }).Path2D = Path2DStub;
}

if (!('requestAnimationFrame' in window)) {
  (window as unknown as { requestAnimationFrame: unknown }).requestAnimationFrame = (cb: FrameRequestCallback) =>
    setTimeout(() => cb(performance.now()), 16);
}

afterEach(() => {
  clearMocks();
});
