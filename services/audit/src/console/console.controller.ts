import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { CONSOLE_SECURITY_HEADERS, loadConsoleAssets, type ConsoleAsset } from './console-assets.js';

/**
 * The web console: /console/assets/<file> are its files, every other /console path is the page
 * itself (the page routes on the path, so a link to /console/deploys/<id> works when opened).
 * The page needs no authentication; its data does (the API, through the session cookie).
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly assets: Map<string, ConsoleAsset> = loadConsoleAssets();

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const asset = this.assets.get(file);
    if (!asset || file === 'index.html') throw new NotFoundException(`no console asset ${file}`);
    res
      .set({ ...CONSOLE_SECURITY_HEADERS, 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache' })
      .send(asset.body);
  }

  @Get(['', '*path'])
  page(@Res() res: Response): void {
    const page = this.assets.get('index.html');
    if (!page) throw new NotFoundException('the console is not built (services/audit/console-app)');
    res
      .set({ ...CONSOLE_SECURITY_HEADERS, 'Content-Type': page.contentType, 'Cache-Control': 'no-store' })
      .send(page.body);
  }
}
