import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linePath, parseRoute } from '../src/routes.js';

describe('routes', () => {
  it('maps paths to pages', () => {
    assert.deepEqual(parseRoute('/'), { name: 'dashboard' });
    assert.deepEqual(parseRoute('/login'), { name: 'login' });
    assert.deepEqual(parseRoute('/admin/'), { name: 'admin' });
    assert.deepEqual(parseRoute(linePath('chiefs-of-staff')), { name: 'line', line: 'chiefs-of-staff' });
  });

  it('refuses line names the station would refuse', () => {
    assert.equal(parseRoute('/lines/Bad Name').name, 'not-found');
    assert.equal(parseRoute('/lines/%E0%A4%A').name, 'not-found');
    assert.equal(parseRoute('/lines/a/b').name, 'not-found');
  });
});
