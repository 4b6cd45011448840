import './lib/locale';
import { mount } from 'svelte';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import App from './App.svelte';
import { uiReady } from './lib/api';

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');

const app = mount(App, { target });

// Two frames later the first one is on screen: tell the app (bench/app.sh times it).
requestAnimationFrame(() => requestAnimationFrame(() => void uiReady().catch(() => {})));

export default app;
