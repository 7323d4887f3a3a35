// Entry point of the page: mounts the app. Everything else starts from app/ui/App.tsx.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/App';
import { formatCount } from './ui/format';
import './ui/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// ICU's number formatting takes tens of milliseconds to set up on first use: do it while the page
// is idle, so that it does not delay the first header drawn after a drop.
const warmUp = () => formatCount(0) + formatCount(0n);
if (typeof requestIdleCallback === 'function') requestIdleCallback(warmUp);
else setTimeout(warmUp, 0);
