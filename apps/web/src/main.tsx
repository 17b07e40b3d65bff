// The shared sheets first, in this order: components' own sheets come after them and may refine them.
import './styles/base.css';
import './styles/layout.css';
import './styles/badges.css';
import './styles/buttons.css';
import './styles/feedback.css';
import './styles/table.css';
import './styles/content.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';

const root = document.getElementById('root');
if (!root) throw new Error('index.html is missing #root');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
