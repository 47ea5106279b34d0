import { describe, expect, it } from 'vitest';
import { publicOriginMove } from './config';

const config = { publicUrl: 'http://localhost:3000', adminApi: 'http://localhost:3000/api' };

describe('publicOriginMove', () => {
  it('stays when the console is open at the public URL', () => {
    expect(publicOriginMove(config, { href: 'http://localhost:3000/admin/users?q=a#x' })).toBeUndefined();
  });

  it('moves to the public URL from another host, port or scheme, keeping the path', () => {
    expect(publicOriginMove(config, { href: 'http://127.0.0.1:3000/admin/t/acme/users?q=a#x' })).toBe(
      'http://localhost:3000/admin/t/acme/users?q=a#x',
    );
    expect(publicOriginMove(config, { href: 'http://localhost:3001/admin/' })).toBe('http://localhost:3000/admin/');
    expect(
      publicOriginMove({ ...config, publicUrl: 'https://id.example.com' }, { href: 'http://id.example.com/admin/' }),
    ).toBe('https://id.example.com/admin/');
  });
});
