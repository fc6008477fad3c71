import { createRoot } from 'react-dom/client';
import { App } from './components/App/App.js';
import { AppStore } from './store/app-store.js';
import { StoreContext } from './store/context.js';
import './styles.css';

const store = new AppStore();
store.start();
createRoot(document.getElementById('root')!).render(
  <StoreContext.Provider value={store}>
    <App />
  </StoreContext.Provider>,
);
