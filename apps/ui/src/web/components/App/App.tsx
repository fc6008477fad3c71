import { useAppStore } from '../../store/context.js';
import { TopBar } from '../TopBar/TopBar.js';
import { HealthBanner } from '../HealthBanner/HealthBanner.js';
import { ServiceMap } from '../ServiceMap/ServiceMap.js';
import { FlowsTable } from '../FlowsTable/FlowsTable.js';
import { EncryptionView } from '../EncryptionView/EncryptionView.js';
import { DropsView } from '../DropsView/DropsView.js';
import { HealthView } from '../HealthView/HealthView.js';

export function App() {
  const store = useAppStore();
  const screen = store.route.screen;
  return (
    <div className="app" data-screen={screen}>
      <TopBar />
      <HealthBanner />
      <main>
        {screen === 'map' && (
          <div className="map-screen">
            <ServiceMap />
            <FlowsTable />
          </div>
        )}
        {screen === 'flows' && <FlowsTable />}
        {screen === 'encryption' && <EncryptionView />}
        {screen === 'drops' && <DropsView />}
        {screen === 'health' && <HealthView />}
      </main>
    </div>
  );
}
