import { createContext, useContext } from 'react';
import type { AppStore } from './app-store.js';
import { useStore } from './observable.js';

export const StoreContext = createContext<AppStore | undefined>(undefined);

/** The app store, re-rendering the caller on every change. */
export function useAppStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useAppStore outside <StoreContext.Provider>');
  useStore(store);
  return store;
}
